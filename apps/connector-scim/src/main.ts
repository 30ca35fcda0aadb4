import { runConnector } from '@grantline/connector-host';
import { scimConnector } from './connector';

void runConnector(scimConnector);
