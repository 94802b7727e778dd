"""The lab's Deep Security Manager: a model of the REST API subset the collection uses (``model.py``),
served over HTTPS on loopback (``server.py``), wired into the shared lab world as the part ``dsm``
(``part.py``)."""
