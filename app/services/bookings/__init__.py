"""Bookings from request to event: catalog, availability, the booking lifecycle and its one
cancellation path, the couple's link actions, booking emails, calendar files and dashboard queries."""
