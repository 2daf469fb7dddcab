"""Replies by mail: taking in mail from an IMAP mailbox or an MTA's pipe, once each."""
