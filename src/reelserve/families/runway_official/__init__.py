"""Runway's own developer API (`/v1`, what the `runwayml` SDKs call), answered by reelserve.

`models.py` holds the models and their rules, `checks.py` reads bodies into
Runway's validation issues, `submit.py` turns them into tasks, `views.py`
renders the task object, `uploads.py` the two-step ephemeral upload,
`errors.py` Runway's error bodies and `routes.py` the endpoints.
"""
