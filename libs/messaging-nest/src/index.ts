export { EventBatchPattern, KafkaEventBatchContext, KafkaEventContext, KafkaEventTransport } from './kafka-event.transport';
export type { KafkaEventTransportOptions, EventHandlerResult } from './kafka-event.transport';
export { MessagingModule, MessagingHealthIndicator, MESSAGE_BUS, EVENT_PUBLISHER, EVENT_REGISTRY, brokersFromEnv } from './messaging.module';
export type { MessagingModuleOptions } from './messaging.module';
export { ReplayedStateService, STATE_SNAPSHOTS } from './replayed-state.service';
export type { FoldedState, ReplayedStateServiceOptions, StateSnapshotSettings } from './replayed-state.service';
