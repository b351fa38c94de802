"""`python -m fakes.twilio_server`: serve the fake until interrupted."""

from fakes.twilio_server.server import main

main()
