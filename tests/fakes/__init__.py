"""Small fake platform servers (Telegram Bot API, ...) that the tests run on 127.0.0.1."""
