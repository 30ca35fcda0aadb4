export * from './policy.state';
export * from './policy.decider';
export * from './decision-record.mapper';
export * from './request-input.mapper';
export * from './detective-sod';
export * from './break-glass-reviews';
export * from './review-reevaluation';
