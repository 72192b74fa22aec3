"""The URL model: is a link shaped like a phishing page, judged from its text alone?

Host and path features (``features``), a logistic regression trained on openly
licensed phishing-URL data (``train``), shipped as ``urls.json`` and read by the
links detector's ``LINK_PHISHY`` signal (``scorer``). Evaluated on sources it
never trained on (``evaluate``); every figure and its origin is in ``CARD.md``.
Nothing here fetches or resolves anything.
"""
