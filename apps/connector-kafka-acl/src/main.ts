import { runConnector } from '@grantline/connector-host';
import { kafkaAclConnector } from './connector';

void runConnector(kafkaAclConnector);
