"""spimguard: an anti-spim service for instant-messaging platforms.

The public surface: load a config, open an engine, feed it events.

    from spimguard import load_config, open_engine, decode_event
    engine = open_engine(load_config())
    verdict = engine.process(decode_event(b'{"type": "message", ...}', engine.config.limits))
"""

from .config import Config
from .config import load as load_config
from .engine import Engine, open_engine
from .errors import BadInput, ConfigError, RecordsUnavailable, SpimguardError, StateUnavailable
from .events import Accepted, Verdict, decode_batch, decode_event, decode_message
from .signals import Signal

__version__ = "0.1.0"

__all__ = ["Accepted", "BadInput", "Config", "ConfigError", "Engine", "RecordsUnavailable",
           "Signal", "SpimguardError", "StateUnavailable", "Verdict", "__version__",
           "decode_batch", "decode_event", "decode_message", "load_config", "open_engine"]
