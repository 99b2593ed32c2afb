"""Smoke flows and what they need: the runner (templates, captures, steps, cleanup), throwaway identities,
mailboxes that receive the app's email, and the proof that a message was signed for the mail domain."""
