/** A vertical line across a chart at `x`, labelled (a scaling event: `web 1 → 2 at 34 s`). */
export interface ChartMarker {
  x: number;
  label: string;
  /** Index into the chart's series whose colour the line takes. */
  series?: number;
}

/** One chart: the page's script draws it with uPlot. Without xLabel, x is seconds and the phases are shaded. */
export interface ChartSpec {
  title: string;
  yLabel: string;
  xLabel?: string;
  /** The legend's name for x. */
  xName?: string;
  /** Ticks on whole numbers only (replica counts). */
  integerX?: boolean;
  /** A fixed top for the y axis (100 for percentages); otherwise 10% above the highest value. */
  yMax?: number;
  /** Ticks on whole numbers only on the y axis (counts). */
  integerY?: boolean;
  /** The label of a second y axis on the right, for the series with `axis: 'right'`. */
  y2Label?: string;
  /** Leave gaps where a value is missing instead of joining across them. */
  gaps?: boolean;
  x: number[];
  /**
   * `summary`: what the legend shows while no point is under the cursor (a static page has none).
   * `steps`: a count that holds until the next reading, drawn as steps across missing values.
   */
  series: { label: string; values: (number | null)[]; style?: 'line' | 'points' | 'band' | 'steps'; axis?: 'right'; summary?: string }[];
  /** Vertical lines (scaling events), listed in the chart's text too. */
  markers?: ChartMarker[];
}
