"""Exceptions raised while provisioning local infrastructure. All derive from :class:`InfraError`."""

from __future__ import annotations

from analysis.exceptions import ShadowQAError


class InfraError(ShadowQAError):
    """Raised when the local Kafka broker or its topics cannot be provisioned, started, stopped or reached."""


class JavaNotFound(InfraError):
    """Raised when no ``java`` is on PATH to run the broker."""


class JavaTooOld(InfraError):
    """Raised when the ``java`` on PATH is older than the broker needs."""


class MavenNotFound(InfraError):
    """Raised when the broker's jars are not cached yet and no ``mvn`` is on PATH to fetch them."""


class JarResolutionFailed(InfraError):
    """Raised when Maven cannot resolve the broker's jars from Maven Central."""


class PortInUse(InfraError):
    """Raised when a port the broker needs is held by a process that is not our broker."""


class BrokerConflict(InfraError):
    """Raised when our broker already runs with other ports than the ones asked for."""


class BrokerStartFailed(InfraError):
    """Raised when the broker exits during start-up or does not answer in time; names the log file."""


class BrokerUnreachable(InfraError):
    """Raised when no broker answers at the bootstrap address."""


class TopicLayoutMismatch(InfraError):
    """Raised when an existing topic's partitions or cleanup policy differ from docs/streaming.md."""


class TopicAdminFailed(InfraError):
    """Raised when the broker refuses to create, describe or delete a topic."""


class LabelStudioInstallFailed(InfraError):
    """Raised when Label Studio's own virtualenv cannot be created or ``pip install`` fails; names the install log."""


class LabelStudioPortInUse(PortInUse):
    """Raised when the port asked for Label Studio is held by a process that is not our Label Studio."""


class LabelStudioConflict(InfraError):
    """Raised when our Label Studio already runs on another port than the one asked for."""


class LabelStudioStartFailed(InfraError):
    """Raised when Label Studio exits while starting, serves elsewhere, refuses our token or does not answer in time."""
