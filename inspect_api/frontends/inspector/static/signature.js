// A signature pad: pointer strokes on a canvas, exported as PNG.

export class SignaturePad {
  constructor(canvas) {
    this.canvas = canvas;
    this.strokes = 0;
    this.drawing = false;
    const ratio = Math.max(1, window.devicePixelRatio || 1);
    const rect = canvas.getBoundingClientRect();
    canvas.width = Math.round((rect.width || 340) * ratio);
    canvas.height = Math.round((rect.height || 160) * ratio);
    this.ctx = canvas.getContext("2d");
    this.ctx.scale(ratio, ratio);
    this.ctx.lineWidth = 2.5;
    this.ctx.lineCap = "round";
    this.ctx.lineJoin = "round";
    this.ctx.strokeStyle = "#111";
    canvas.addEventListener("pointerdown", (e) => this.start(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    for (const name of ["pointerup", "pointerleave", "pointercancel"]) canvas.addEventListener(name, () => this.end());
  }

  point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  start(event) {
    event.preventDefault();
    this.drawing = true;
    this.moved = false;
    const [x, y] = this.point(event);
    this.ctx.beginPath();
    this.ctx.moveTo(x, y);
  }

  move(event) {
    if (!this.drawing) return;
    event.preventDefault();
    const [x, y] = this.point(event);
    this.ctx.lineTo(x, y);
    this.ctx.stroke();
    this.moved = true;
  }

  end() {
    if (this.drawing && this.moved) this.strokes += 1;
    this.drawing = false;
  }

  isEmpty() {
    return this.strokes === 0;
  }

  clear() {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.strokes = 0;
  }

  toBlob() {
    return new Promise((resolve) => this.canvas.toBlob(resolve, "image/png"));
  }
}
