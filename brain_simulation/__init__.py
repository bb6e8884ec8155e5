"""The seed's module name: `from brain_simulation import IonConcentrations` runs on brainsim
(everything here is `brainsim.simulation`'s)."""

from brainsim.simulation import *  # noqa: F401,F403  (the seed's names, re-exported as they are)
from brainsim.simulation import __all__  # noqa: F401
