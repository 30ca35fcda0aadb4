export * from './policy.state';
export * from './policy.decider';
export * from './decision-record.mapper';
export * from './request-input.mapper';
