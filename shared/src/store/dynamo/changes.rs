//! Updates built from named values (`SET #a = :a`, `if_not_exists`, `ADD`, `REMOVE` and a
//! condition over the same names), sent alone or as a transaction's write: the SMS inbox's
//! items change several attributes at once, and spelling each expression by hand repeats
//! every name three times.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::DynamoStore;
use super::codec::Item;
use super::tx::built;
use crate::store::StoreError;

/// An update built from named values: `SET #a = :a, …` (or `if_not_exists` ones), `ADD`s,
/// `REMOVE`s and a condition over the same names; sent alone or in a transaction.
#[derive(Default)]
pub(in crate::store) struct Changes {
    sets: Vec<(&'static str, AttributeValue)>,
    keep: Vec<(&'static str, AttributeValue)>,
    adds: Vec<(&'static str, AttributeValue)>,
    removes: Vec<&'static str>,
    condition: Option<String>,
    values: Vec<(&'static str, AttributeValue)>,
    /// On a failed condition, return the item as it was.
    return_old: bool,
}

/// A [`Changes`] as DynamoDB takes it.
struct Expression {
    update: String,
    condition: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Changes {
    pub(in crate::store) fn set(mut self, name: &'static str, value: AttributeValue) -> Self {
        self.sets.push((name, value));
        self
    }
    /// Set only where the item has no value yet.
    pub(in crate::store) fn keep(mut self, name: &'static str, value: AttributeValue) -> Self {
        self.keep.push((name, value));
        self
    }
    pub(in crate::store) fn add(mut self, name: &'static str, value: AttributeValue) -> Self {
        self.adds.push((name, value));
        self
    }
    pub(in crate::store) fn remove(mut self, name: &'static str) -> Self {
        self.removes.push(name);
        self
    }
    /// A condition naming attributes as `#name` and extra values as `:name`.
    pub(in crate::store) fn when(
        mut self,
        condition: &str,
        values: Vec<(&'static str, AttributeValue)>,
    ) -> Self {
        self.condition = Some(condition.to_owned());
        self.values = values;
        self
    }
    pub(in crate::store) fn returning_old(mut self) -> Self {
        self.return_old = true;
        self
    }

    fn expression(self) -> Expression {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut name = |n: &str| {
            names.insert(format!("#{n}"), n.to_owned());
        };
        let mut clauses = Vec::new();
        let mut set_parts: Vec<String> = Vec::new();
        for (n, value) in self.sets {
            set_parts.push(format!("#{n} = :{n}"));
            values.insert(format!(":{n}"), value);
            name(n);
        }
        for (n, value) in self.keep {
            set_parts.push(format!("#{n} = if_not_exists(#{n}, :{n})"));
            values.insert(format!(":{n}"), value);
            name(n);
        }
        if !set_parts.is_empty() {
            clauses.push(format!("SET {}", set_parts.join(", ")));
        }
        if !self.adds.is_empty() {
            let adds: Vec<String> = self
                .adds
                .iter()
                .map(|(n, _)| format!("#{n} :{n}"))
                .collect();
            clauses.push(format!("ADD {}", adds.join(", ")));
            for (n, value) in self.adds {
                values.insert(format!(":{n}"), value);
                name(n);
            }
        }
        if !self.removes.is_empty() {
            let removes: Vec<String> = self.removes.iter().map(|n| format!("#{n}")).collect();
            clauses.push(format!("REMOVE {}", removes.join(", ")));
            for n in self.removes {
                name(n);
            }
        }
        if let Some(condition) = &self.condition {
            for (n, value) in self.values {
                values.insert(format!(":{n}"), value);
            }
            // Every `#name` the condition uses names the attribute of that name.
            for word in condition.split(|c: char| !(c.is_alphanumeric() || c == '#')) {
                if let Some(n) = word.strip_prefix('#') {
                    name(n);
                }
            }
        }
        Expression {
            update: clauses.join(" "),
            condition: self.condition,
            names,
            values,
        }
    }

    /// As a write of a transaction.
    pub(in crate::store) fn update(
        self,
        table: &str,
        key: Item,
    ) -> Result<TransactWriteItem, StoreError> {
        let return_old = self.return_old;
        let e = self.expression();
        let mut update = Update::builder()
            .table_name(table)
            .set_key(Some(key))
            .update_expression(e.update)
            .set_condition_expression(e.condition)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values).filter(|v| !v.is_empty()));
        if return_old {
            update = update.return_values_on_condition_check_failure(
                ReturnValuesOnConditionCheckFailure::AllOld,
            );
        }
        Ok(TransactWriteItem::builder()
            .update(built(update.build())?)
            .build())
    }

    /// As a request of its own.
    pub(in crate::store) fn update_item(
        self,
        store: &DynamoStore,
        key: Item,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let return_old = self.return_old;
        let e = self.expression();
        let request = store
            .client
            .update_item()
            .table_name(&store.table)
            .set_key(Some(key))
            .update_expression(e.update)
            .set_condition_expression(e.condition)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values).filter(|v| !v.is_empty()));
        if return_old {
            request.return_values_on_condition_check_failure(
                ReturnValuesOnConditionCheckFailure::AllOld,
            )
        } else {
            request
        }
    }
}
