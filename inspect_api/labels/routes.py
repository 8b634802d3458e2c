"""The label tables for front ends."""

from __future__ import annotations

from inspect_api.auth.access import login_required
from inspect_api.extensions import Blueprint
from inspect_api.labels import schemas as s
from inspect_api.labels.tables import labels

blp = Blueprint("labels", __name__, url_prefix="/api/v1", description="代码的中文名称（供前端显示和表单选项）")


@blp.route("/labels", methods=["GET"])
@blp.doc(operationId="getLabels")
@login_required()
@blp.response(200, s.LabelsSchema)
def get_labels():
    """Code → Chinese name of every enumeration (roles, kinds, departments, statuses, severities...)."""
    return labels()
