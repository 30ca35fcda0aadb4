import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { NotificationsHandler } from './notifications.handler';
import { NOTIFIER_CONFIG, loadNotifierConfig } from './notifier.config';
import type { NotifierConfig } from './notifier.config';
import { NotifierStateService } from './notifier-state.service';

/**
 * Notifications derived from facts. Needs the messaging module's bus and registry (the service kit provides
 * them). Without an explicit config it reads NOTIFIER_* from the environment when Nest builds the app.
 */
@Module({})
export class NotificationsModule {
  static forRoot(config?: NotifierConfig): DynamicModule {
    return {
      module: NotificationsModule,
      controllers: [NotificationsHandler],
      providers: [
        config ? { provide: NOTIFIER_CONFIG, useValue: config } : { provide: NOTIFIER_CONFIG, useFactory: () => loadNotifierConfig() },
        NotifierStateService,
      ],
      exports: [NOTIFIER_CONFIG, NotifierStateService],
    };
  }
}
