import logging

from app.logsafety import RedactTokens, redact


def test_request_lines_lose_their_tokens():
    token = "AbC_dEf-0123456789abcdefghijklmnopqrstuvwxy"[:43]
    line = f'127.0.0.1 - - "GET /auth/reset/{token} HTTP/1.1" 200 -'
    assert token not in redact(line)
    assert "/auth/reset/[redacted]" in redact(line)


def test_the_filter_rewrites_formatted_records():
    token = "Z" * 43
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"GET /t/x/b/%s"', (token,), None)
    RedactTokens().filter(record)
    assert token not in record.getMessage()

