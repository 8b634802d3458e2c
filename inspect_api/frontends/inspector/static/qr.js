// Reading the institution's poster: BarcodeDetector where the browser has it (live camera or a
// photo), else the vendored jsQR decoder in a worker on a photo of the poster.

export class QrError extends Error {
  constructor(message) {
    super(message);
    this.name = "QrError";
  }
}

let supported = null;

/** Whether this browser's BarcodeDetector reads QR codes. */
export async function hasDetector() {
  if (supported === null) {
    supported = false;
    if ("BarcodeDetector" in window) {
      try {
        supported = (await window.BarcodeDetector.getSupportedFormats()).includes("qr_code");
      } catch {
        supported = false;
      }
    }
  }
  return supported;
}

function inWorker(file) {
  return new Promise((resolve, reject) => {
    const worker = new Worker("/app/static/qr-worker.js");
    const timer = setTimeout(() => { worker.terminate(); reject(new QrError("识别超时，请重拍一张更清晰的照片")); }, 30000);
    worker.addEventListener("message", (event) => {
      clearTimeout(timer);
      worker.terminate();
      if (event.data.text) resolve(event.data.text);
      else if (event.data.error === "NOT_FOUND") reject(new QrError("照片中没有找到二维码：请对准海报上的二维码，靠近些重拍"));
      else reject(new QrError("无法读取这张照片，请重拍"));
    });
    worker.addEventListener("error", () => { clearTimeout(timer); worker.terminate(); reject(new QrError("无法读取这张照片，请重拍")); });
    worker.postMessage(file);
  });
}

/** The text of the QR code in a photo. */
export async function decodePhoto(file) {
  if (await hasDetector()) {
    try {
      const bitmap = await createImageBitmap(file);
      const codes = await new window.BarcodeDetector({ formats: ["qr_code"] }).detect(bitmap);
      if (codes.length) return codes[0].rawValue;
    } catch { /* fall back to the decoder */ }
  }
  return inWorker(file);
}

/** Scan with the camera until a QR code is seen (BarcodeDetector only); stop() ends it. */
export async function scanCamera(video) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  video.srcObject = stream;
  video.setAttribute("playsinline", "");
  await video.play();
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  let stopped = false;
  const stop = () => {
    stopped = true;
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
  const found = new Promise((resolve, reject) => {
    const tick = async () => {
      if (stopped) return reject(new QrError("已取消扫码"));
      try {
        const codes = await detector.detect(video);
        if (codes.length) {
          stop();
          return resolve(codes[0].rawValue);
        }
      } catch { /* a frame that cannot be read: try the next */ }
      setTimeout(tick, 250);
    };
    tick();
  });
  return { found, stop };
}

/** What a scanned poster says: the payload to send, its token and the institution's public id. */
export function parsePoster(text) {
  const value = String(text || "").trim();
  try {
    const url = new URL(value);
    const match = /\/p\/institutions\/([^/?#]+)/.exec(url.pathname);
    return { payload: value, token: url.searchParams.get("t"), publicId: match ? decodeURIComponent(match[1]) : null };
  } catch {
    return { payload: value, token: value || null, publicId: null };
  }
}
