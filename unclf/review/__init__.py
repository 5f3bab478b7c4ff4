"""``unclf review``: label, review and correct target paragraphs in the browser, and the same
over a JSON API. The logic lives in :mod:`unclf.review.session` (and the modules it uses); the
web app in :mod:`unclf.review.app` only serves it."""
