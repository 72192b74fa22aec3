"""A simulated IM platform under spim attack: network → scenarios → runner → score.

``network`` builds who knows whom, ``scenarios`` plans what everyone sends
(ordinary life, attacks, traps) with the truth of each message, ``runner``
sends it through spimguard in event time (in-process or over HTTP) and adds the
recipients' reports, ``score`` turns the verdicts into a scorecard.
"""
