"""Outbox rows are safe to send whatever text users typed into subjects."""
def test_email_headers_never_carry_line_breaks(db_session, tenant_a):
    from app.services.email import outbox as email

    row = email.queue_email(db_session, tenant_a.tenant_id, to="a@example.com\r\nBcc: evil@example.com",
                            kind="password_changed", subject="Gold\r\nBcc: evil@example.com",
                            context={"user": {"name": "", "email": "a"}, "login_url": "u", "forgot_url": "f"})
    message = email.build_message(row, "MAIS <no-reply@x.example>", "x.example")
    assert "\n" not in row.subject and "\r" not in row.to_addr
    assert message["Bcc"] is None and message["Subject"] == "Gold Bcc: evil@example.com"
