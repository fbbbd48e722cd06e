"""Steps this course puts into stock nbgrader's pipelines (named in nbgrader_config.py).

``OverwriteCells``: nbgrader's own step, except for one false alarm. nbgrader compares each
submitted locked cell with the gradebook's source cell, which still holds the hidden tests, so
every honest test cell with hidden tests was logged as "Attribute 'checksum' ... has changed!"
(in the autograde log and Formgrader's dialog). Here a cell is reported only when it differs
from what the student was given: the source cell with its hidden tests cleared, as
``nbgrader generate_assignment`` released it. The cell is restored from the source either way.
"""

import copy

from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.preprocessors import OverwriteCells as StockOverwriteCells


class OverwriteCells(StockOverwriteCells):
    """nbgrader's OverwriteCells, reporting a locked cell only when the student changed it."""

    def preprocess_cell(self, cell, resources, cell_index):
        self._as_released = self._released_source(cell)
        self._submitted = cell.source
        return super().preprocess_cell(cell, resources, cell_index)

    def _released_source(self, cell):
        """The source the student was given for this cell, or None (not a cell of the gradebook)."""
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            return None
        try:
            source_cell = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        except Exception:  # missing from the gradebook: nbgrader reports it itself
            return None
        released = copy.deepcopy(cell)
        released.source = source_cell.source
        released, _ = ClearHiddenTests().preprocess_cell(released, {}, 0)
        return released.source

    def report_change(self, name, attr, old, new):
        if attr == "checksum" and self._as_released is not None and self._submitted == self._as_released:
            return  # only the hidden tests differ: the cell is as released
        super().report_change(name, attr, old, new)
