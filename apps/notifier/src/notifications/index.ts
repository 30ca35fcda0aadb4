export { NotificationsModule } from './notifications.module';
export { NOTIFIER_CONFIG, loadNotifierConfig } from './notifier.config';
export type { NotifierConfig } from './notifier.config';
