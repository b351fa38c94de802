"""Texts from patients: `/_fake/inbound` signs a Twilio inbound form, posts it to the app's webhook
and sends whatever its TwiML answers with."""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET

import requests
from werkzeug.wrappers import Request, Response

from bot.demo.fake_twilio.encoding import count_segments
from bot.demo.fake_twilio.errors import TwilioError, json_response
from bot.demo.fake_twilio.host import Host
from bot.demo.fake_twilio.messages import API_VERSION, new_sid
from bot.demo.fake_twilio.phones import country

log = logging.getLogger("fakes.twilio")

OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "YES", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}


class InboundTexts(Host):
    """The inbound half of FakeTwilio: it plays the patient (opt-out keywords block later creates)."""

    def _on_inbound(self, request: Request) -> Response:
        spec = request.get_json(silent=True) or {}
        if not spec.get("from") or not spec.get("to") or spec.get("body") is None:
            raise TwilioError(400, 20001, "JSON body needs from, to and body")
        return json_response(self.send_inbound(spec["from"], spec["to"], spec["body"]))

    def send_inbound(self, from_: str, to: str, body: str) -> dict:
        """Post a patient's text to the inbound webhook, signed like Twilio.

        Returns {"sid", "status"} with the webhook's HTTP status (None when it
        could not be reached) and the messages its TwiML answered with.
        """
        if not self.inbound_url:
            raise TwilioError(409, 20001, "the fake has no inbound_url configured")
        segments, _ = count_segments(body)
        sid = new_sid()
        word = re.sub(r"[^\w]", "", body).upper()
        if word in OPT_OUT_WORDS and self.blocks_opted_out:
            self.opt_out(from_)
        elif word in OPT_IN_WORDS:
            self.opt_in(from_)
        form = {
            "ToCountry": country(to),
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": country(from_),
            "To": to,
            "ToZip": "",
            "NumSegments": str(segments),
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": API_VERSION,
        }
        if word in OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS:
            form["OptOutType"] = "STOP" if word in OPT_OUT_WORDS else "START" if word in OPT_IN_WORDS else "HELP"
        now = self.now().replace(microsecond=0)
        record = self._resource(sid, to, from_, body, "received", "inbound", segments, None, now)
        with self._lock:
            self._by_sid[sid] = record
            self._order.append(sid)
        signature = self.validator.compute_signature(self.inbound_url, form)
        try:
            answer = self._session().post(
                self.inbound_url, data=form, headers={"X-Twilio-Signature": signature}, timeout=15
            )
        except requests.RequestException as error:
            log.warning("inbound webhook unreachable: %s", type(error).__name__)
            return {"sid": sid, "status": None, "replies": []}
        replies = [self._reply(to, from_, text) for text in twiml_messages(answer.text)]
        return {"sid": sid, "status": answer.status_code, "replies": replies}

    def _reply(self, practice: str, patient: str, text: str) -> str:
        # TwiML <Message> answers go out like any other text.
        try:
            return self._validate_and_store(patient, practice, None, text, None)["sid"]
        except TwilioError as error:
            return f"error {error.code}"


def twiml_messages(text: str) -> list[str]:
    """The texts of the <Message> verbs in a TwiML answer (none for empty TwiML)."""
    if "<Message" not in (text or ""):
        return []
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return []
    found = []
    for element in root.iter("Message"):
        body = element.find("Body")
        value = (body.text if body is not None else element.text) or ""
        if value.strip():
            found.append(value.strip())
    return found
