"""`python -m bot.demo.fake_twilio`: serve the fake until interrupted."""

from bot.demo.fake_twilio.server import main

main()
