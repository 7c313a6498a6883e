"""News from the certification domain for the domains above it."""
from blinker import Namespace

_signals = Namespace()

#: sent with (session, record=…, now=…) when a certification record is issued (automatically, by an admin,
#: or as the renewal that completes a recertification path), inside the transaction that issues it
record_issued = _signals.signal("record-issued")

#: sent with (session, record=…, person=…, window=…, now=…) once per reminder the expiry job tells a person
#: (the agent, each of their managers) about a certificate expiring within ``window`` days (the e-mail itself
#: is queued by certification when the person wants it)
expiry_reminder = _signals.signal("expiry-reminder")

#: sent with (session, path=…, now=…) when a recertification path opens (the agent's e-mail is queued by
#: certification when they want it)
recertification_opened = _signals.signal("recertification-opened")
