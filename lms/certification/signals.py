"""News from the certification domain for the domains above it."""
from blinker import Namespace

_signals = Namespace()

#: sent with (session, record=…, now=…) when a certification record is issued (automatically, by an admin,
#: or as the renewal that completes a recertification path), inside the transaction that issues it
record_issued = _signals.signal("record-issued")
