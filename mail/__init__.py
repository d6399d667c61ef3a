"""Mail in and out: mailbox readers (files, mbox, Maildir, IMAP) and transports (SMTP, folder)."""
