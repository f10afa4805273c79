import { Field, ID, InterfaceType } from 'type-graphql';

@InterfaceType({ description: 'An object that can be fetched alone with `node(id)`. Its `id` is global and opaque: it encodes the provider instance, the type and the provider-native key.' })
export abstract class Node {
  @Field(() => ID, { description: 'Global, opaque ID.' })
  id!: string;
}
