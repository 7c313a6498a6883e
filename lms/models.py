"""Imports every domain's models so that ``Base.metadata`` knows every table
(used by migrations and by the schema test)."""
from lms.accounts import models as accounts_models  # noqa: F401
from lms.reference import models as reference_models  # noqa: F401
from lms.reference import search as reference_search  # noqa: F401
from lms.tracks import models as tracks_models  # noqa: F401
from lms.quizzes import models as quizzes_models  # noqa: F401
from lms.roleplays import models as roleplays_models  # noqa: F401
from lms.roleplays import workspace_models as roleplays_workspace_models  # noqa: F401
from lms.certification import models as certification_models  # noqa: F401
from lms.core import outbox as core_outbox  # noqa: F401
from lms.core import audit as core_audit  # noqa: F401
from lms.core import idempotency as core_idempotency  # noqa: F401
from lms.api import models as api_models  # noqa: F401
from lms.lti import models as lti_models  # noqa: F401
from lms.badges import models as badges_models  # noqa: F401
from lms.notifications import models as notifications_models  # noqa: F401
from lms.content import models as content_models  # noqa: F401
from lms.authoring import models as authoring_models  # noqa: F401
from lms.reporting import models as reporting_models  # noqa: F401
