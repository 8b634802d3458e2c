// Reads a QR code from a photo (a classic worker: jsQR is a UMD script). Phone photos are large
// and the poster may fill little of them, so a few scales are tried, smallest first.
/* global jsQR */
importScripts("/app/static/jsQR.js");

const SIDES = [1000, 1600, 2400, 640];

self.addEventListener("message", async (event) => {
  try {
    const bitmap = await createImageBitmap(event.data);
    for (const side of SIDES) {
      const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
      const width = Math.max(1, Math.round(bitmap.width * scale));
      const height = Math.max(1, Math.round(bitmap.height * scale));
      const canvas = new OffscreenCanvas(width, height);
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(bitmap, 0, 0, width, height);
      const pixels = context.getImageData(0, 0, width, height);
      const code = jsQR(pixels.data, width, height, { inversionAttempts: "attemptBoth" });
      if (code && code.data) {
        self.postMessage({ text: code.data });
        return;
      }
      if (scale === 1) break;
    }
    self.postMessage({ error: "NOT_FOUND" });
  } catch (error) {
    self.postMessage({ error: "UNREADABLE", message: String(error) });
  }
});
