"""The Qt user interface: the only package that imports PySide6 and pyqtgraph.

It presents and edits core objects (``convdesigner.core``) and holds no model state of its own.
"""
