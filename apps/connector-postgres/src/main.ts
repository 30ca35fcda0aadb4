import { runConnector } from '@grantline/connector-host';
import { postgresConnector } from './connector';

void runConnector(postgresConnector);
