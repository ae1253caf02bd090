"""Verifies leadhook's outgoing webhooks with the official Standard Webhooks library.

Reads one JSON object per line on stdin: {"secret": "whsec_...", "headers": {...}, "body": "..."}
(the body as the receiver got it, as text). Writes one line per request: the verified payload
as JSON, or {"error": "..."} when the library refuses the request.
"""

import json
import sys

from standardwebhooks.webhooks import Webhook

for line in sys.stdin:
    request = json.loads(line)
    try:
        payload = Webhook(request["secret"]).verify(request["body"], request["headers"])
        print(json.dumps(payload))
    except Exception as error:  # the library's own verification errors
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
