"""`python -m bot.demo` (what `make demo` runs)."""

from bot.demo.run import main

if __name__ == "__main__":
    raise SystemExit(main())
