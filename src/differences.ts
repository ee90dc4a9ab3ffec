/**
 * The categories a difference between the batch and the streaming output is explained by
 * (DESIGN.md section 4), shared by the scenarios' expected differences and the comparator.
 */
export const DIFFERENCE_CATEGORIES = {
  join_as_of_event_time: 'Batch joined current state at run time; the stream joined the state when the event was processed',
  late_arrival: 'An event arrived after its window closed (plus grace) or after the batch cut-off',
  intermediate_update: 'One side holds an intermediate value; compare final values per key',
  duplicate_delivery: 'An event was delivered more than once and counted more than once',
  update_delete_semantics: 'An update or hard delete in place that one side saw and the other did not',
  day_boundary: "The event falls on a different business day in the domain's business time zone than in UTC (DST, midnight)",
  processing_time: 'A window by processing time instead of event time',
  start_position: 'A consumer started at the latest offset, or read out of order across partitions',
  rounding: 'Numbers differ by rounding or representation',
  unexplained: 'No known semantic difference explains it: suspect a bug',
} as const;
export type DifferenceCategory = keyof typeof DIFFERENCE_CATEGORIES;
