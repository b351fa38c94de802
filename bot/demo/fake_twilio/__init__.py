"""A local fake of Twilio's Messages API, for tests, the demo and benchmarks.

It serves the same URLs, form fields, JSON shapes, error codes and signed
webhooks as Twilio, so the real `twilio` client (or curl) talks to it
unchanged:

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json          create
    GET  /2010-04-01/Accounts/{AccountSid}/Messages.json          list (To, From, DateSent, DateSent<, DateSent>, PageSize)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json    fetch

and a few control endpoints that Twilio does not have:

    POST /_fake/faults     JSON {"status": 429|500|503, "after_store": bool, "delay": s, "times": n, "on": "create"|"list"}
    GET  /_fake/messages   JSON list of every outbound message, newest last
    POST /_fake/reset      forget messages, faults and opt-outs
    POST /_fake/inbound    JSON {"from", "to", "body"}: play the patient through the signed webhook

One module per resource: messages (create, list, fetch), callbacks (delivery and
status callbacks), faults, inbound (playing the patient); server holds the state,
the routing and `main`. Run it on its own with `python -m bot.demo.fake_twilio --port 8010 ...`.
"""

from bot.demo.fake_twilio.encoding import count_segments
from bot.demo.fake_twilio.errors import TwilioError
from bot.demo.fake_twilio.faults import Fault
from bot.demo.fake_twilio.server import FakeTwilio, main

__all__ = ["FakeTwilio", "Fault", "TwilioError", "count_segments", "main"]
