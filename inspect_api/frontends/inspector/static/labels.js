// Chinese names of the API's codes (what the screens show).

export const RESULT = { pass: "符合", deduct: "扣分", fail: "不符合", na: "不适用" };
export const SEVERITY = { critical: "严重", major: "较重", minor: "一般" };
export const METHOD = {
  document_review: "查阅资料", on_site: "现场查看", interview: "询问", record_sampling: "抽查记录", practical_test: "实地操作",
};
export const ASSIGNMENT_STATUS = { assigned: "待检查", in_progress: "检查中", submitted: "已提交", cancelled: "已取消" };
export const ENTRY_STATUS = {
  pending: "待发送", sending: "发送中", applied: "已保存到服务器", duplicate: "服务器已有，未重复保存",
  conflict: "冲突：待选择", refused: "被服务器拒绝", resolved: "冲突已处理", replaced: "已被新的修改取代",
  discarded: "已放弃",
};
export const ENTRY_KIND = { checkin: "签到", response: "检查结果", photo: "照片", signature: "签名", submit: "提交检查" };
export const SIGNER = { lead: "检查组组长", member: "检查组成员", institution_representative: "机构负责人/代表" };
export const FLAG_REASON = {
  beyond_radius: "超出签到半径", low_accuracy: "定位精度不足", fix_time_implausible: "定位时间异常",
  institution_location_unknown: "机构位置未登记",
};
export const GRADE = { excellent: "优秀", good: "良好", pass: "合格", fail: "不合格" };
