"""What the clients app tells whoever listens (the operations adapter counts calls from it)."""

from django.dispatch import Signal

# Sent by clients.services.record_call for every call it records, with `entry` (the AuditEntry, saved
# or, when the database could not take it, unsaved) and `stored` (whether it was saved). Metrics of
# the webservices are counted from this one place.
call_recorded = Signal()
