"""Outbox rows are safe to send whatever text users typed into subjects."""
def test_email_headers_never_carry_line_breaks(db_session, tenant_a):
    from app.services.email import outbox as email

    row = email.queue_email(db_session, tenant_a.tenant_id, to="a@example.com\r\nBcc: evil@example.com",
                            kind="password_changed", subject="Gold\r\nBcc: evil@example.com",
                            context={"user": {"name": "", "email": "a"}, "login_url": "u", "forgot_url": "f"})
    message = email.build_message(row, "MAIS <no-reply@x.example>", "x.example")
    assert "\n" not in row.subject and "\r" not in row.to_addr
    assert message["Bcc"] is None and message["Subject"] == "Gold Bcc: evil@example.com"


def test_long_non_ascii_subjects_keep_every_space_when_folded(db_session, tenant_a):
    """Folding into encoded words used to drop the space between two of them
    ("... 2027  \u2013Lumi\u00e8re Photography"); every length of the title is tried."""
    import email
    import email.policy

    from app.services.email import outbox as email_outbox

    context = {"user": {"name": "", "email": "a"}, "login_url": "u", "forgot_url": "f"}
    for tail in ("Lumi\u00e8re Photography", "\u00d8rsted & Co", "\u5199\u771f \u6771\u4eac"):
        for length in range(1, 90, 3):
            subject = f"Booking confirmed: {'G' * length} on Saturday, June 12, 2027 \u2013 {tail}"
            row = email_outbox.queue_email(db_session, tenant_a.tenant_id, to="a@example.com",
                                           kind="password_changed", subject=subject, context=context)
            message = email_outbox.build_message(row, "MAIS <no-reply@x.example>", "x.example")
            wire = message.as_bytes(policy=email.policy.SMTP)
            assert all(len(line) <= 78 for line in wire.split(b"\r\n\r\n")[0].split(b"\r\n"))
            received = email.message_from_bytes(wire, policy=email.policy.default)
            assert received["Subject"] == subject
    db_session.rollback()
