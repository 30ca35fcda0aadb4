import { runConnector } from '@grantline/connector-host';
import { credentialsConnector } from './connector';

void runConnector(credentialsConnector);
