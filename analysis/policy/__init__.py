"""The automation policy: which frames may ship on the machine's labels alone."""

from analysis.policy.automation import AutomationPolicy, FrameInfo

__all__ = ["AutomationPolicy", "FrameInfo"]
