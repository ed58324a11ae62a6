"""Task batches in Label Studio's and CVAT's formats, so a team can work in the tool it already uses.

Export: each leased task becomes a Label Studio task (JSON, ``data.image`` the
API's image URL, ``data.shadowqa_task_id``) or a CVAT-for-images 1.1 ``<image>``
(``name`` the task id, width and height). Import: the tool's export of the same
batch; each task's answer (Label Studio: its first annotation not cancelled;
CVAT: the ``<image>``) becomes a submission as the API takes it, each box a
tagged ``box2d`` geometry ``[x, y, w, h]`` in pixels, category ids from the data set's category names, image tags. Pure
functions: no database, no HTTP. What each tool's reader takes is in its
module (label_studio.py, cvat.py); common.py says what is a malformed body
(422) and what rejects one task only.
"""

from services.api.formats.common import (
    PRESENT,
    Answer,
    BatchFormatError,
    BatchTask,
    Format,
    Others,
    Rejected,
    Rotated,
    Submission,
)
from services.api.formats.cvat import cvat_answer, cvat_document, cvat_root, from_cvat
from services.api.formats.label_studio import (
    from_label_studio,
    label_studio_answer,
    label_studio_config,
    label_studio_tasks,
)

__all__ = [
    "PRESENT",
    "Answer",
    "BatchFormatError",
    "BatchTask",
    "Format",
    "Others",
    "Rejected",
    "Rotated",
    "Submission",
    "cvat_answer",
    "cvat_document",
    "cvat_root",
    "from_cvat",
    "from_label_studio",
    "label_studio_answer",
    "label_studio_config",
    "label_studio_tasks",
]
