/** The example shop domain: entities, the event contract, business time and exact money. */
export * from './entities.ts';
export * from './events.ts';
export * from './money.ts';
export * from './time.ts';
export * from './legacy-schema.ts';
