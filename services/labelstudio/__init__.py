"""Label Studio as the annotation team's live workspace: the bridge between shadowqa's queue and a Label Studio.

- :mod:`client`: Label Studio's REST API (projects, tasks, webhooks) over httpx;
- :mod:`labeling`: one project per dataset profile, its labelling config generated from the profile;
- :mod:`signing`: signed, expiring image URLs the browser fetches from shadowqa's API;
- :mod:`ingest`: a Label Studio annotation (from a webhook or a poll) relayed into the queue as a submission;
- :mod:`bridge`: the loop that moves tasks into Label Studio, renews their leases and reconciles.
"""
