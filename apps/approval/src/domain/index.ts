export * from './approval.state';
export { evolve } from './approval.evolve';
export * from './approval.commands';
export * from './approval.decide';
export * from './approval.policy';
export * from './approver-resolution';
export * from './directory';
export * from './route-prerequisites';
export * from './approval.visibility';
