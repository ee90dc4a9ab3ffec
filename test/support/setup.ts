// Runs before every test file: kafkajs' read_committed filter is replaced before anything loads kafkajs.
import '../../src/kafkajs-fixes.ts';
