"""Enrollment: joining courses (free or paid through Stripe), progress, receipts."""
