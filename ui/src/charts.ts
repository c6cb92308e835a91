// Line charts over blocks (uPlot), fed point by point as blocks arrive or are read back.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "./dom";

const COLOURS = ["#2e7d32", "#1565c0", "#c62828", "#6a1b9a"];

export class LineChart {
  readonly el: HTMLElement;
  private plot?: uPlot;
  private points = new Map<number, number[]>();

  constructor(private title: string, private series: string[], testid: string) {
    this.el = h("div", { class: "chart", testid });
    window.addEventListener("resize", () => this.plot?.setSize(this.size()));
  }

  add(block: number, values: number[]): void {
    this.points.set(block, values);
    this.draw();
  }

  /// How many blocks the chart holds (the browser tests read it).
  get length(): number {
    return this.points.size;
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(260, Math.min(this.el.clientWidth || 560, 900)), height: 220 };
  }

  private draw(): void {
    const blocks = [...this.points.keys()].sort((a, b) => a - b);
    const data: uPlot.AlignedData = [
      blocks,
      ...this.series.map((_, i) => blocks.map((b) => this.points.get(b)?.[i] ?? null)),
    ];
    this.el.dataset.points = String(blocks.length);
    if (!this.plot) {
      this.plot = new uPlot({
        title: this.title,
        ...this.size(),
        scales: { x: { time: false } },
        axes: [{ label: "block" }, {}],
        series: [{ label: "block" }, ...this.series.map((label, i) => ({ label, stroke: COLOURS[i % COLOURS.length], width: 2 }))],
      }, data, this.el);
    } else {
      this.plot.setData(data);
    }
  }
}
