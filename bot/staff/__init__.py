"""The people behind the bot: paging on-call staff, acknowledgements, practice and staff set-up."""
