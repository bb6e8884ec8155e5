"""Import SONATA point-neuron networks (bmtk, NEST) as `.brain` models.

    >>> from brainsim.sonata import import_sonata
    >>> model = import_sonata("network/circuit_config.json", "imported")   # writes imported/model.brain
    >>> results = model.compile().run()

The nodes, node types, edges and edge types the circuit config names become
populations of standard-library neuron models (NEST's `model_template`s mapped
by `brainsim.sonata.templates`), with their positions, parameters, connectivity,
weights and delays, in a model the user can read and edit. docs/sonata.md has
the mapping table and what is left to the user. Reading needs h5py, the `sonata`
extra (`pip install "brainsim-lang[sonata]"`).
"""

from brainsim.sonata.importer import import_sonata

__all__ = ["import_sonata"]
